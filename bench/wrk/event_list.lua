-- GET /api/events/?page=1&page_size=10 (the runner gives the query string) as a user with 10,000
-- events, expect 200: the first page of 10 and the count of all 10,000.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("common").scenario{method = "GET", expect = 200}
