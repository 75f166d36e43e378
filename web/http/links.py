"""The address students' phones use to join: ``PUBLIC_URL``, else the address the page was opened
on, else (opened on a loopback address such as ``localhost``) an address of this machine that
other devices on the network can reach."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil
from flask import current_app, request

# Interfaces of containers and virtual machines on this host: phones cannot reach them.
VIRTUAL_PREFIXES = ("docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "lxc", "lxd", "podman", "cni", "flannel")


@dataclass(frozen=True)
class JoinBase:
    """Where the join links point: ``url`` (scheme, host and port, no trailing slash) and
    ``source``: ``public_url`` (the setting), ``request`` (the address the page was opened on),
    ``network`` (this machine's address on the network, the page was opened on loopback)
    or ``loopback`` (no other address found: only this machine can join)."""

    url: str
    source: str
    addresses: tuple[str, ...] = ()

    def join_url(self, code: str) -> str:
        """The link a player opens to join session ``code``."""
        return f"{self.url}/join/{code}"


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``*.localhost``, 127.0.0.0/8, ``::1`` and the unspecified address."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def network_addresses() -> list[str]:
    """IPv4 addresses of this machine that other devices may reach, best first: interfaces
    that are up, not loopback or link-local, private-range ones before others, container and
    VM bridges last."""
    stats = psutil.net_if_stats()
    found: list[tuple[int, str]] = []
    for name, addrs in psutil.net_if_addrs().items():
        if name in stats and not stats[name].isup:
            continue
        virtual = name.lower().startswith(VIRTUAL_PREFIXES)
        for addr in addrs:
            if addr.family.name != "AF_INET":
                continue
            ip = ipaddress.ip_address(addr.address)
            if ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast:
                continue
            rank = 2 if virtual else 0 if ip.is_private else 1
            found.append((rank, addr.address))
    return [a for _, a in sorted(found, key=lambda x: x[0])]


def join_base(url_root: str, public_url: str | None) -> JoinBase:
    """Where join links point for a request that came in on ``url_root`` (``request.url_root``)."""
    if public_url:
        return JoinBase(public_url.rstrip("/"), "public_url")
    parts = urlsplit(url_root)
    path = parts.path.rstrip("/")
    if not is_loopback(parts.hostname or ""):
        return JoinBase(f"{parts.scheme}://{parts.netloc}{path}", "request")
    found = network_addresses()
    if not found:
        return JoinBase(f"{parts.scheme}://{parts.netloc}{path}", "loopback")
    port = f":{parts.port}" if parts.port else ""
    return JoinBase(f"{parts.scheme}://{found[0]}{port}{path}", "network", tuple(found))


def request_join_base() -> JoinBase:
    """``join_base`` for the current Flask request and the app's ``PUBLIC_URL``."""
    return join_base(request.url_root, current_app.config["BEERGAME"].get("PUBLIC_URL"))


def share_lines(public_url: str | None, host: str, port: int) -> list[str]:
    """What ``python -m web`` prints at start-up: the addresses to give the class."""
    here = f"http://localhost:{port}"
    lines = [f"Facilitator: {here}/facilitate (on this machine)"]
    if public_url:
        lines.append(f"Students join at {public_url.rstrip('/')} (PUBLIC_URL)")
        return lines
    if is_loopback(host) and host not in ("0.0.0.0", "::", "[::]"):
        lines.append(f"Students: listening on {host} only, so no other device can join; use --host 0.0.0.0")
        return lines
    found = network_addresses()
    if not found:
        lines.append(
            f"Students: no network address found, only this machine can join ({here}). "
            "Connect to the room's network, or set PUBLIC_URL."
        )
        return lines
    lines.append(f"Students join at http://{found[0]}:{port} (this machine on the network)")
    lines.extend(f"  or at http://{a}:{port}" for a in found[1:])
    return lines
