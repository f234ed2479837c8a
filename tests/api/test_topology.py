"""The topology of harness.py's Server (ALMANAC_TEST_TOPOLOGY) is what it claims to be: one
process, or (nginx-pg) two instances on one PostgreSQL database behind nginx, both of which serve
the requests sent to Server.port; stop() leaves nothing listening."""

import unittest

from harness import (
    BEHIND_NGINX,
    INSTANCES_BEHIND_NGINX,
    Server,
    listening_inodes,
    unique_name,
    verify_listener_owner,
)

REQUESTS = 10  # through Server.port; round-robin gives each instance some


class TopologyTest(unittest.TestCase):

    def test_the_server_is_what_the_topology_says(self):
        server = Server()
        self.addCleanup(server.close)
        server.start()
        instances = server.instances
        self.assertEqual(len(instances), INSTANCES_BEHIND_NGINX if BEHIND_NGINX else 1)
        ports = [instance.port for instance in instances] + [server.port]
        for instance in instances:
            verify_listener_owner(instance.process.pid, instance.port)  # raises on failure
        verify_listener_owner(server.process.pid, server.port)
        if BEHIND_NGINX:
            self.assertTrue(server.pg_database)
            self.assertEqual(len(set(ports)), len(ports), ports)  # nginx and each instance
            # One database: a user registered on one instance logs in on every other.
            _, user = server.register()
            for instance in instances:
                response = instance.request("POST", "/api/auth/login/", {
                    "username": user["username"], "password": user["password"]})
                self.assertEqual(response.status, 200, (instance.name, response))
        else:
            self.assertEqual(server.port, instances[0].port)

        request_ids = [f"topology-{unique_name('rid').replace('_', '-')}" for _ in range(REQUESTS)]
        for request_id in request_ids:
            response = server.request("GET", "/healthz", headers={"X-Request-Id": request_id})
            self.assertEqual(response.status, 200, response)
            self.assertEqual(response.headers.get("X-Request-Id"), request_id)
        server.stop()  # the logs are complete once the processes exited
        for instance in instances:
            log = instance.log_text()
            served = [rid for rid in request_ids if rid in log]
            self.assertTrue(served, f"instance {instance.name} served none of the requests")
        self.assertEqual(server.log_text(), "".join(i.log_text() for i in instances))
        for port in ports:
            self.assertEqual(listening_inodes(port), {}, f"port {port}: a listener after stop()")
        self.assertIsNone(server.process)


if __name__ == "__main__":
    unittest.main()
