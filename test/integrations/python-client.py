"""One call of the provider's official Python client (PyPI `ovh`), for test/integrations/python-client.test.ts.

Usage: python-client.py METHOD PATH [JSON_BODY]   (endpoint and keys in the environment; CONSUMER_KEY optional)
       python-client.py credential                 (asks for a consumer key with GET and POST on /*)
Prints {"result": ...} or {"error": {"status": ..., "message": ...}} as JSON.
"""
import json
import os
import sys

import ovh

# The client knows the provider's regions by name: a script for another endpoint adds it to that table.
ovh.client.ENDPOINTS["contacts"] = os.environ["CONTACTS_ENDPOINT"]
client = ovh.Client(
    endpoint="contacts",
    application_key=os.environ["APPLICATION_KEY"],
    application_secret=os.environ["APPLICATION_SECRET"],
    consumer_key=os.environ.get("CONSUMER_KEY"),
)

try:
    if sys.argv[1] == "credential":
        result = client.request_consumerkey([{"method": "GET", "path": "/*"}, {"method": "POST", "path": "/*"}])
    else:
        method, path = sys.argv[1], sys.argv[2]
        body = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
        result = client.call(method, path, body or None, True)
    print(json.dumps({"result": result}))
except ovh.exceptions.APIError as error:
    response = getattr(error, "response", None)
    status = response.status_code if response is not None else None
    print(json.dumps({"error": {"status": status, "message": str(error)}}))
