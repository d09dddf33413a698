"""A minimal receiver for the knowledge base's known-problem webhooks (standard library only).

    KB_WEBHOOK_SECRET=s3cret python docs/examples/ticketing_receiver.py 8765

Checks the signature and the timestamp, answers 204, and prints the linked tickets a
helpdesk would now update. Answer 2xx only once the event is safely stored: anything else
(or no answer within 5 s) makes the knowledge base retry with back-off.
"""

import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ.get("KB_WEBHOOK_SECRET", "").encode()
MAX_AGE_SECONDS = 300  # reject replays of old deliveries
seen_deliveries = set()  # a retried delivery can arrive twice: handle it once


def signature_ok(timestamp, body, header):
    expected = (
        "sha256=" + hmac.new(SECRET, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected, header or "")


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        timestamp = self.headers.get("X-KB-Timestamp", "0")
        if not signature_ok(timestamp, body, self.headers.get("X-KB-Signature")):
            return self._answer(401)
        if abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
            return self._answer(400)
        event = json.loads(body)
        if event["delivery_id"] not in seen_deliveries:
            seen_deliveries.add(event["delivery_id"])
            problem = event["known_problem"]
            print(
                f"{event['event']}: #{problem['id']} {problem['title']['en']!r} "
                f"{problem['previous_status']} -> {problem['status']}; "
                f"tell the customers of tickets {', '.join(event['linked_tickets']) or '(none)'}"
            )
        self._answer(204)

    def _answer(self, status):
        self.send_response(status)
        self.end_headers()


if __name__ == "__main__":
    if not SECRET:
        sys.exit("Set KB_WEBHOOK_SECRET to the endpoint's secret.")
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    print(f"listening on http://127.0.0.1:{port}/")
    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
