"""A real HTTP client for the metrics tests, run as a child process.

usage: http_get.py URL [--method M] [--json] [--timeout S]

Sends one request with urllib and prints the status code, the Content-Type and the Allow
header (empty if absent) on three lines, then the body. With --json the body must parse as
JSON (else exit 1) and is printed as one `path=value` line per leaf, the value as JSON:
`connections.0.login="alice"`. An empty object or list is a leaf (`connections=[]`).
Exit 0 whenever a response arrived, whatever its status; 1 if none did.
"""
import argparse
import json
import sys
import urllib.error
import urllib.request


def leaves(value, path):
    if not value or not isinstance(value, (dict, list)):
        yield path, json.dumps(value)
        return
    children = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        yield from leaves(child, f"{path}.{key}" if path else str(key))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()
    request = urllib.request.Request(args.url, method=args.method)
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as refusal:
        status, headers, body = refusal.code, refusal.headers, refusal.read()
    except Exception as failure:  # no response at all: timeout, refused, reset
        print(f"no response: {failure!r}")
        return 1
    print(status)
    print(headers.get("Content-Type", ""))
    print(headers.get("Allow", ""))
    text = body.decode("utf-8")
    if args.json:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as failure:
            print(f"not JSON: {failure}: {text}")
            return 1
        for path, value in leaves(document, ""):
            print(f"{path}={value}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
