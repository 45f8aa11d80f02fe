"""A tiny HTTP server for the browser test: each GET answers with the bytes
the file holds at that moment (a file that is still being written), with
its exact length, and appends "NAME BYTES" to the log for the test to read.
usage: serve_growing.py ROOT PORT_FILE LOG"""
import http.server
import os
import sys

TYPES = {".webm": "video/webm", ".mp4": "video/mp4", ".html": "text/html"}


class GrowingFileHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name = os.path.basename(self.path.split("?")[0].split("#")[0])
        path = os.path.join(ROOT, name)
        if not name or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            data = f.read()
        with open(LOG, "a") as log:
            log.write(f"{name} {len(data)}\n")
        self.send_response(200)
        self.send_header("Content-Type", TYPES.get(os.path.splitext(name)[1], "application/octet-stream"))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ROOT, port_file, LOG = sys.argv[1:4]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GrowingFileHandler)
    with open(port_file, "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()
