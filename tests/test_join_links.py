"""Join links that phones reach: PUBLIC_URL, the page's own address, or this machine's network
address when the page was opened on loopback; and what ``python -m web`` prints."""

from __future__ import annotations

import psutil
import pytest

from web.http import links


def test_loopback_names() -> None:
    for host in ("localhost", "app.localhost", "127.0.0.1", "127.9.9.9", "::1", "[::1]", "0.0.0.0"):
        assert links.is_loopback(host), host
    for host in ("192.168.1.20", "10.0.0.5", "beer.example.org", "fd00::2"):
        assert not links.is_loopback(host), host


def test_public_url_wins() -> None:
    base = links.join_base("http://127.0.0.1:5000/", "https://beer.example.org/")
    assert (base.url, base.source) == ("https://beer.example.org", "public_url")
    assert base.join_url("K7QX2M") == "https://beer.example.org/join/K7QX2M"


def test_a_page_opened_on_a_network_address_keeps_it() -> None:
    base = links.join_base("http://192.168.1.20:5000/", None)
    assert (base.url, base.source) == ("http://192.168.1.20:5000", "request")
    assert links.join_base("https://beer.example.org/class/", None).url == "https://beer.example.org/class"


def test_loopback_page_gets_the_machines_network_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(links, "network_addresses", lambda: ["192.168.1.20", "172.17.0.1"])
    base = links.join_base("http://localhost:8000/", None)
    assert (base.url, base.source) == ("http://192.168.1.20:8000", "network")
    assert base.addresses == ("192.168.1.20", "172.17.0.1")
    monkeypatch.setattr(links, "network_addresses", lambda: [])
    base = links.join_base("http://localhost:8000/", None)
    assert (base.url, base.source) == ("http://localhost:8000", "loopback")


def test_network_addresses_are_this_machines_and_not_loopback() -> None:
    mine = {a.address for addrs in psutil.net_if_addrs().values() for a in addrs}
    found = links.network_addresses()
    assert set(found) <= mine
    assert not any(links.is_loopback(a) or a.startswith("169.254.") for a in found)
    assert "127.0.0.1" in mine and "127.0.0.1" not in found


def test_start_up_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(links, "network_addresses", lambda: ["192.168.1.20", "10.0.0.7"])
    text = "\n".join(links.share_lines(None, "0.0.0.0", 5000))
    assert "Students join at http://192.168.1.20:5000" in text and "http://10.0.0.7:5000" in text
    public = links.share_lines("https://beer.example.org", "0.0.0.0", 5000)
    assert "Students join at https://beer.example.org (PUBLIC_URL)" in public
    monkeypatch.setattr(links, "network_addresses", lambda: [])
    assert "only this machine can join" in "\n".join(links.share_lines(None, "0.0.0.0", 5000))
    assert "listening on 127.0.0.1 only" in "\n".join(links.share_lines(None, "127.0.0.1", 5000))


def test_api_and_qr_use_the_reachable_address(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(links, "network_addresses", lambda: ["192.168.1.20"])
    client = make_app().test_client()
    r = client.post("/api/sessions", json={"scenario": "classic"}, base_url="http://127.0.0.1:5000")
    assert r.status_code == 201
    assert r.get_json()["join_url"] == f"http://192.168.1.20:5000/join/{r.get_json()['code']}"
    page = client.get(f"/facilitate/{r.get_json()['code']}", base_url="http://127.0.0.1:5000").get_data(as_text=True)
    assert 'data-source="network"' in page and "192.168.1.20:5000/join/" in page
    public = make_app(PUBLIC_URL="https://beer.example.org").test_client()
    r = public.post("/api/sessions", json={"scenario": "classic"}, base_url="http://127.0.0.1:5000")
    assert r.get_json()["join_url"].startswith("https://beer.example.org/join/")


def test_a_bad_public_url_is_refused(make_app) -> None:
    for bad in ("ftp://x.org", "beer.example.org", "https://x.org/?a=1"):
        with pytest.raises(ValueError, match="PUBLIC_URL"):
            make_app(PUBLIC_URL=bad)
