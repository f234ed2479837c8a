-- GET /api/events/{id}/ of an event the seeded user owns, expect 200: JWT verify, a point read
-- (the event and the caller's role) and the JSON rendering.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("common").scenario{method = "GET", expect = 200}
