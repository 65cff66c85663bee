#!/usr/bin/env python3
"""A small OTLP/HTTP logs receiver for swift-auditd-otlp's tests and benchmark.

Decodes each POST with the official definitions (PyPI's opentelemetry-proto:
ExportLogsServiceRequest.FromString) and appends one JSON line per LogRecord to --output, and one
line per request (its answer and record count) to --requests. What it answers is read from
--mode-file before each request, so a test can change it while the receiver runs:
  ok                 200 with an empty ExportLogsServiceResponse (also when the file is missing)
  503 [SECONDS]      503, with Retry-After: SECONDS if given (records are not written)
  429 [SECONDS]      the same with 429
  drop               closes the connection without an answer
  400                400 with a text body (the exporter must set the batch aside)
  partial N          200 with partial_success.rejected_log_records = N
  delay MS           200, after writing the records and waiting MS milliseconds (a slow collector)
With --count-only (the benchmark) it writes one line per request instead: its record count and the
records' audit.stamp attributes. With --no-decode (for measuring the exporter alone, never for a
verdict) it answers every POST 200 without decoding it and writes nothing.
Listens on 127.0.0.1 (--port 0 picks a free port) and writes the port to --port-file when ready.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)


def any_value(value):
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--requests", required=True)
    parser.add_argument("--mode-file", required=True)
    parser.add_argument("--count-only", action="store_true")
    parser.add_argument("--no-decode", action="store_true")
    args = parser.parse_args()
    # A test runner may start us with SIGTERM blocked (the mask is inherited): stop() must work.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    lock = threading.Lock()
    output = open(args.output, "a", encoding="utf-8")
    requests = open(args.requests, "a", encoding="utf-8")

    def mode():
        try:
            with open(args.mode_file, encoding="utf-8") as f:
                words = f.read().split()
                return words or ["ok"]
        except FileNotFoundError:
            return ["ok"]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def answer(self, status, body=b"", content_type="application/x-protobuf", headers=()):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if args.no_decode:
                self.answer(200)
                return
            words = mode()
            note = {"path": self.path, "content_type": self.headers.get("Content-Type"), "mode": " ".join(words)}
            if words[0] == "drop":
                with lock:
                    requests.write(json.dumps(note | {"status": None}) + "\n")
                    requests.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if words[0] in ("503", "429"):
                with lock:
                    requests.write(json.dumps(note | {"status": int(words[0])}) + "\n")
                    requests.flush()
                headers = [("Retry-After", words[1])] if len(words) > 1 else []
                self.answer(int(words[0]), headers=headers)
                return
            if words[0] == "400":
                with lock:
                    requests.write(json.dumps(note | {"status": 400}) + "\n")
                    requests.flush()
                self.answer(400, b"test receiver refuses this batch", "text/plain")
                return
            request = ExportLogsServiceRequest.FromString(body)
            if args.count_only:
                # The benchmark's receiver should not be its bottleneck: the exporter sends
                # audit.stamp first, so one attribute per record is read (any other order still counts).
                stamps = []
                for resource_logs in request.resource_logs:
                    for scope_logs in resource_logs.scope_logs:
                        for record in scope_logs.log_records:
                            first = record.attributes[0] if record.attributes else None
                            if first is not None and first.key == "audit.stamp":
                                stamps.append(first.value.string_value)
                            else:
                                stamps += [kv.value.string_value for kv in record.attributes if kv.key == "audit.stamp"]
                with lock:
                    output.write(json.dumps({"records": len(stamps), "stamps": stamps}) + "\n")
                    output.flush()
                self.answer(200, ExportLogsServiceResponse().SerializeToString())
                return
            lines = []
            for resource_logs in request.resource_logs:
                resource = {kv.key: any_value(kv.value) for kv in resource_logs.resource.attributes}
                for scope_logs in resource_logs.scope_logs:
                    for record in scope_logs.log_records:
                        lines.append(json.dumps({
                            "resource": resource,
                            "scope": scope_logs.scope.name,
                            "time_unix_nano": record.time_unix_nano,
                            "observed_time_unix_nano": record.observed_time_unix_nano,
                            "event_name": record.event_name,
                            "body": any_value(record.body),
                            "attributes": {kv.key: any_value(kv.value) for kv in record.attributes},
                        }))
            response = ExportLogsServiceResponse()
            if words[0] == "partial":
                response.partial_success.rejected_log_records = int(words[1])
                response.partial_success.error_message = "test receiver rejected some"
            with lock:
                if lines:
                    output.write("\n".join(lines) + "\n")
                    output.flush()
                requests.write(json.dumps(note | {"status": 200, "records": len(lines)}) + "\n")
                requests.flush()
            if words[0] == "delay":
                time.sleep(int(words[1]) / 1000)
            self.answer(200, response.SerializeToString())

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    temporary = args.port_file + ".new"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    os.rename(temporary, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
