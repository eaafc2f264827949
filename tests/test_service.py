"""org.varlink.service and the daemon's life: start, introspection, stop."""
import os
import stat

from conftest import IDL
from helpers import expect_error, expect_invalid, new_socket, \
    d_listener, tcp_connect, peer_eof
from varlink import VarlinkError


def test_socket_file_is_world_writable_socket(sockd):
    st = os.stat(sockd.path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o666


def test_get_info(sockd):
    c = sockd.client()
    info = c.call("org.varlink.service.GetInfo")
    for key in ("vendor", "product", "version", "url"):
        assert isinstance(info.get(key), str), (key, info)
    assert info["product"]
    assert info["version"]
    ifaces = info["interfaces"]
    assert isinstance(ifaces, list)
    assert "org.varlink.service" in ifaces
    assert "io.sockd" in ifaces
    assert len(set(ifaces)) == len(ifaces)


def test_get_interface_description_is_the_idl_file(sockd):
    with open(IDL, "rb") as f:
        want = f.read()
    c = sockd.client()
    desc = c.call("org.varlink.service.GetInterfaceDescription",
                  {"interface": "io.sockd"})["description"]
    assert isinstance(desc, str)
    assert desc.encode("utf-8") == want


def test_idl_names_the_interface_and_methods():
    with open(IDL, encoding="utf-8") as f:
        text = f.read()
    lines = [ln.strip() for ln in text.splitlines()
             if ln.strip() and not ln.strip().startswith("#")]
    assert lines[0] == "interface io.sockd"
    methods = {ln.split()[1].split("(")[0] for ln in lines
               if ln.startswith("method ")}
    want = {"Socket", "Bind", "Listen", "Accept", "Connect", "ConnectEx",
            "Send", "SendAll", "SendTo", "Recv", "RecvFrom", "SetTimeout",
            "GetTimeout", "SetBlocking", "SetSockOpt", "GetSockOpt",
            "Shutdown", "Close", "GetSockName", "GetPeerName", "FileNo",
            "Poll", "Attach", "GetAddrInfo", "GetNameInfo", "GetHostByAddr",
            "List"}
    assert want <= methods, want - methods
    errors = {ln.split()[1].split("(")[0] for ln in lines
              if ln.startswith("error ")}
    assert {"OSError", "Timeout", "GAIError", "HError",
            "ProtocolError"} <= errors


def test_unknown_interface_description(sockd):
    c = sockd.client()
    e = expect_error("org.varlink.service.InterfaceNotFound", c.call,
                     "org.varlink.service.GetInterfaceDescription",
                     {"interface": "com.example.nothing"})
    assert e.params.get("interface") == "com.example.nothing"
    # The connection is still usable.
    assert "io.sockd" in c.call("org.varlink.service.GetInfo")["interfaces"]


def test_interface_description_needs_interface(sockd):
    c = sockd.client()
    expect_invalid("interface", c.call,
                   "org.varlink.service.GetInterfaceDescription", {})
    expect_invalid("interface", c.call,
                   "org.varlink.service.GetInterfaceDescription",
                   {"interface": 7})


def test_unknown_method(sockd):
    c = sockd.client()
    e = expect_error("org.varlink.service.MethodNotFound", c.call,
                     "io.sockd.NoSuchMethod", {})
    assert e.params.get("method") in ("io.sockd.NoSuchMethod",
                                      "NoSuchMethod")
    e = expect_error("org.varlink.service.MethodNotFound", c.call,
                     "org.varlink.service.NoSuchMethod")
    assert e.params.get("method") in ("org.varlink.service.NoSuchMethod",
                                      "NoSuchMethod")
    # Method names are case sensitive.
    expect_error("org.varlink.service.MethodNotFound", c.call,
                 "io.sockd.socket", {"family": "AF_INET",
                                     "type": "SOCK_STREAM"})
    assert c.call("io.sockd.List")["sockets"] == []


def test_method_of_unknown_interface(sockd):
    c = sockd.client()
    try:
        c.call("com.example.nothing.Method")
    except VarlinkError as e:
        assert e.error in ("org.varlink.service.InterfaceNotFound",
                           "org.varlink.service.MethodNotFound"), e
    else:
        raise AssertionError("a method of an unknown interface succeeded")
    assert c.call("org.varlink.service.GetInfo")


def test_attach_error_leaves_the_connection_varlink(sockd):
    c = sockd.client()
    h = new_socket(c)
    c.send_call("io.sockd.Attach", {"handle": h}, upgrade=True)
    msg = c.recv_msg()
    assert msg.get("error") == "io.sockd.OSError", msg
    assert msg["parameters"]["name"] == "ENOTCONN", msg
    # An error reply to an upgrade call leaves the connection varlink.
    assert c.call("io.sockd.GetSockName", {"handle": h})["address"][
        "family"] == "AF_INET"


def test_sigterm_with_live_connections_and_sockets(start_sockd):
    d = start_sockd()
    c = d.client()
    h, addr = d_listener(c)
    new_socket(c, persistent=True, name="kept")
    peer = tcp_connect(addr["port"])
    acc = c.call("io.sockd.Accept", {"handle": h})["handle"]
    assert acc > 0
    # A second connection waits in a call when the signal comes.
    c2 = d.client()
    c2.send_call("io.sockd.Recv", {"handle": acc, "bufsize": 10})
    assert not c2.pending(0.1)
    assert d.stop(close_clients=False) == 0
    assert not os.path.lexists(d.path)
    assert d.notified("STOPPING=1"), d.notifications
    # The daemon's sockets died with it.
    assert peer_eof(peer)
    peer.close()


def test_many_connections(sockd):
    clients = [sockd.client() for _ in range(64)]
    for c in clients:
        c.send_call("org.varlink.service.GetInfo")
    for c in clients:
        assert "io.sockd" in c.recv_msg()["parameters"]["interfaces"]
