# A webhook receiver for the captures: appends each POST (headers worth showing and
# the body) to the file argv[2] as JSON lines; answers 204.
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, out = int(sys.argv[1]), sys.argv[2]

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        keep = {k: v for k, v in self.headers.items() if k.lower().startswith(("content-type", "webhook-", "user-agent"))}
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": keep, "body": json.loads(body)}) + "\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", port), Handler).serve_forever()
