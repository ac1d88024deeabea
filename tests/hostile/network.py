# ruff: noqa
# hostile: opens connections to the grader's loopback listener and to a package registry
# where: end
# modes: strong weak container nowall user
# shows: no connection 127\.0\.0\.1
try:
    import socket
except ImportError:  # the guard refuses _socket
    socket = None

for host, port in (("127.0.0.1", __PORT__), ("pypi.org", 443), ("1.1.1.1", 53)):
    try:
        if socket is None:
            raise ImportError("no socket module")
        with socket.create_connection((host, port), timeout=2):
            print("CONNECTED", host, port)
    except (OSError, ImportError) as error:
        print("no connection", host, port, error.__class__.__name__)
