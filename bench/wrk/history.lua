-- GET /api/events/{id}/history/?page=1&page_size=10 (the runner gives the path) of an event with
-- 10,000 versions, expect 200: the access check, the count of versions and the newest 10.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("common").scenario{method = "GET", expect = 200}
