#!/usr/bin/python3
"""A hostile (or merely odd) Secret Service, for tests of carto-auth's
keyring fast path (tests/integration/test_keyring_session.sh).

    secret_service_standin.py MODE SECRET_FILE READY_FILE

Owns org.freedesktop.secrets on the session bus and answers what the fast
path asks: Properties.Get Locked on the default alias (unlocked),
SearchItems (one unlocked item, whatever is searched), Properties.Get
Attributes on that item (the attributes searched for), OpenSession,
GetSecrets (the bytes of SECRET_FILE, a token item's JSON) and
Session.Close. Touches READY_FILE once it owns the name. MODE:

  good        dh-ietf1024-sha256-aes128-cbc-pkcs7 done right (and "plain"
              refused, so that only an encrypted read can succeed)
  plain-only  refuses that algorithm (NotSupported), as an old service
              would, and offers only "plain"
  wrong-type  answers the DH request with a string, as for "plain"
  peer-one    sends the public value 1 (which would give away the key)
  peer-long   sends a 129-byte public value
  iv-short    a 15-byte IV
  ct-ragged   a ciphertext that is not a whole number of AES blocks
  bad-pad     a ciphertext whose padding is wrong (right key)

Needs python3-dbus and python3-gi (GLib main loop), and the openssl
command for AES.
"""
import hashlib
import hmac
import os
import secrets
import subprocess
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

ALGORITHM = "dh-ietf1024-sha256-aes128-cbc-pkcs7"
PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF", 16)
ROOT = "/org/freedesktop/secrets"
ITEM = ROOT + "/collection/login/1"
PROPS = "org.freedesktop.DBus.Properties"
SERVICE = "org.freedesktop.Secret.Service"

MODE, SECRET_FILE, READY_FILE = sys.argv[1:4]
sessions = {}      # path -> AES key (None for plain)
searched = {}      # the attributes of the last search


def hkdf_sha256(ikm, length):
    prk = hmac.new(b"\0" * 32, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def aes_cbc(key, iv, data, pad=True):
    cmd = ["openssl", "enc", "-aes-128-cbc", "-K", key.hex(), "-iv", iv.hex()]
    if not pad:
        cmd.append("-nopad")
    return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout


class Properties(dbus.service.Object):
    props = {}

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, name):
        return self.props[name]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return self.props


class Alias(Properties):
    props = {"Locked": dbus.Boolean(False), "Label": "Login"}


class Item(Properties):
    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, name):
        if name == "Attributes":
            return dbus.Dictionary(searched, signature="ss")
        if name == "Locked":
            return dbus.Boolean(False)
        raise dbus.exceptions.DBusException("no such property",
                                            name="org.freedesktop.DBus.Error.UnknownProperty")


class Session(dbus.service.Object):
    @dbus.service.method("org.freedesktop.Secret.Session", in_signature="", out_signature="")
    def Close(self):
        sessions.pop(self.__dbus_object_path__, None)
        self.remove_from_connection()


class Service(Properties):
    props = {"Collections": dbus.Array([ROOT + "/collection/login"], signature="o")}

    def __init__(self, bus):
        super().__init__(bus, ROOT)
        self.bus = bus
        self.count = 0

    def new_session(self, key):
        self.count += 1
        path = "%s/session/s%d" % (ROOT, self.count)
        Session(self.bus, path)
        sessions[path] = key
        return dbus.ObjectPath(path)

    @dbus.service.method(SERVICE, in_signature="sv", out_signature="vo", byte_arrays=True)
    def OpenSession(self, algorithm, data):
        if algorithm == "plain" and MODE != "good":
            return dbus.String("", variant_level=1), self.new_session(None)
        if algorithm != ALGORITHM or MODE == "plain-only":
            raise dbus.exceptions.DBusException(
                "algorithm not supported", name="org.freedesktop.DBus.Error.NotSupported")
        if MODE == "wrong-type":
            return dbus.String("", variant_level=1), self.new_session(None)
        peer = int.from_bytes(bytes(data), "big")
        x = secrets.randbelow(PRIME - 3) + 2
        shared = pow(peer, x, PRIME).to_bytes(128, "big")
        ours = pow(2, x, PRIME).to_bytes(128, "big").lstrip(b"\0")
        if MODE == "peer-one":
            ours = b"\x01"
        elif MODE == "peer-long":
            ours = b"\x01" * 129
        path = self.new_session(hkdf_sha256(shared, 16))
        return dbus.ByteArray(ours, variant_level=1), path

    @dbus.service.method(SERVICE, in_signature="a{ss}", out_signature="aoao")
    def SearchItems(self, attributes):
        searched.clear()
        searched.update({str(k): str(v) for k, v in attributes.items()})
        return dbus.Array([ITEM], signature="o"), dbus.Array([], signature="o")

    @dbus.service.method(SERVICE, in_signature="aoo", out_signature="a{o(oayays)}")
    def GetSecrets(self, items, session):
        key = sessions[str(session)]
        with open(SECRET_FILE, "rb") as f:
            plain = f.read()
        iv = os.urandom(16)
        if key is None:
            iv, value = b"", plain
        elif MODE == "iv-short":
            iv, value = iv[:15], aes_cbc(key, iv, plain)
        elif MODE == "ct-ragged":
            value = aes_cbc(key, iv, plain)[:-1]
        elif MODE == "bad-pad":
            body = plain + b"\x00" * (-len(plain) % 16)
            value = aes_cbc(key, iv, body + b"\x05" * 15 + b"\x04", pad=False)
        else:
            value = aes_cbc(key, iv, plain)
        secret = dbus.Struct((session, dbus.ByteArray(iv), dbus.ByteArray(value),
                              "application/json"), signature="oayays")
        return dbus.Dictionary({item: secret for item in items}, signature="o(oayays)")


def main():
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    Service(bus)
    Alias(bus, ROOT + "/aliases/default")
    Item(bus, ITEM)
    name = dbus.service.BusName("org.freedesktop.secrets", bus, do_not_queue=True)
    with open(READY_FILE, "w"):
        pass
    loop = GLib.MainLoop()
    try:
        loop.run()
    finally:
        del name


if __name__ == "__main__":
    main()
