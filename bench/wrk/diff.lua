-- GET /api/events/{id}/diff/{a}/{b}/ (the runner gives the path) of the first and the newest of
-- an event's 10,000 versions, expect 200: the access check, two versions by id, the fields that
-- differ.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("common").scenario{method = "GET", expect = 200}
