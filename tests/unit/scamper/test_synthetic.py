"""Decoder paths not covered by captured data, on hand-built records:
legacy global address records, trace PMTUD / last-ditch / doubletree
attributes, ICMP (MPLS) extensions, TCP replies, IPv4 timestamp options,
unknown newer fields and unknown DNS RR data types."""

from __future__ import annotations

import datetime as dt

import pytest

from scamperlab.scamper.results import ScamperIcmpMplsLabelStackEntry
from scamperlab.scamper.warts import WartsDecoder
from scamperlab.wire.warts.errors import WartsFormatError

from .wbuild import (
    addr,
    addr_ref,
    cycle_record,
    list_record,
    params,
    record,
    string,
    tv,
    u8,
    u16,
    u32,
)

T0 = 1700000000


def _legacy_addr(idx: int, text: str) -> bytes:
    raw = addr(text)[1:]  # type byte + address
    return record(5, u8(idx % 255) + raw)


def test_legacy_address_table_and_gid_fields() -> None:
    d = WartsDecoder()
    d.decode(_legacy_addr(0, "192.0.2.1") + _legacy_addr(1, "192.0.2.9"))
    reply = params({1: u32(1), 2: u8(0x01), 3: u8(60), 4: u16(84), 5: u8(0) + u8(0), 6: u32(1500)})
    body = params({3: u32(0), 4: u32(1), 5: tv(T0, 5), 10: u16(1), 15: u16(1)}) + u16(1) + reply
    ping = d.decode_record(record(7, body))
    assert type(ping).__name__ == "ScamperPing"
    assert str(ping.src) == "192.0.2.1" and str(ping.dst) == "192.0.2.9"
    r = ping.reply(0)
    assert r is not None and str(r.src) == "192.0.2.9" and r.reply_ttl == 60
    assert r.reply_proto == 1  # absent field defaults to ICMP for IPv4
    assert r.rtt == dt.timedelta(microseconds=1500) and r.tx is None and r.rx is None
    assert ping.wait_timeout == ping.wait_probe  # timeout defaults to wait
    with pytest.raises(WartsFormatError):
        d.decode_record(record(7, params({3: u32(7), 4: u32(1)}) + u16(0)))


def _hop(ttl: int, src: bytes, extra: dict[int, bytes]) -> bytes:
    fields = {2: u8(ttl), 3: u8(250), 4: u8(0x10), 5: u8(0), 6: u32(1234), 8: u16(60)}
    fields.update({18: src})
    fields.update(extra)
    return params(fields)


def test_trace_attributes_extensions_and_tcp() -> None:
    mpls = u16(8) + u8(1) + u8(1) + u32((16 << 12) | (5 << 9) | (1 << 8) | 254) + u32(17 << 12)
    ext = u16(len(mpls)) + mpls
    hops = [
        _hop(1, addr("192.0.2.1"), {7: u8(11) + u8(0), 17: ext, 20: string("r1.example")}),
        _hop(2, addr("192.0.2.2"), {7: u8(3) + u8(4), 12: u16(1400), 13: u16(60), 14: u8(2)}),
        _hop(3, addr("192.0.2.3"), {4: u8(0x30), 15: u8(0x12)}),
    ]
    pm_hop = _hop(2, addr_ref(3), {7: u8(3) + u8(4), 12: u16(1400)})
    pmtud = (
        params({1: u16(1500), 2: u16(1400), 4: u8(2), 5: u8(1)})
        + u16(1)
        + pm_hop
        + params({1: u8(1), 2: u16(1400), 3: u16(0)})
    )
    lastditch = b"\0" + u16(1) + _hop(4, addr_ref(0), {})
    dtree = params({3: u8(2), 6: string("lss"), 7: u8(1)})
    attrs = b"".join(
        u16((t << 12) | len(blob)) + blob for t, blob in ((1, pmtud), (2, lastditch), (3, dtree))
    )
    attrs += u16(9 << 12 | 2) + b"zz"  # unknown attribute: skipped
    top = params(
        {
            5: tv(T0, 0),
            6: u8(1),
            9: u8(2),
            11: u8(3),
            13: u16(1000),
            14: u16(80),
            19: u16(3),
            24: u8(5),
            26: addr("192.0.2.100"),
            27: addr("192.0.2.3"),
            28: u32(77),
            99: u8(1),  # a field from a newer release: skipped with the rest
        }
    )
    body = top + u16(len(hops)) + b"".join(hops) + attrs + u16(0)
    d = WartsDecoder()
    d.decode(list_record() + cycle_record())
    t = d.decode_record(record(6, body))
    assert type(t).__name__ == "ScamperTrace"
    assert t.userid == 77 and t.list is None and t.cycle is None
    h1, h2, h3 = t.hop(0), t.hop(1), t.hop(2)
    assert h1 is not None and h1.name == "r1.example" and h1.is_icmp_ttl_exp()
    assert str(h1) == "r1.example 192.0.2.1 1.234 ms"
    exts = h1.icmp_exts
    assert exts is not None and exts.ext_count == 1 and exts.mpls is not None
    m = exts.mpls
    assert m.mpls_count == 2 and (m.mpls_label(0), m.mpls_exp(0), m.mpls_s(0)) == (16, 5, 1)
    assert m.mpls_ttl(0) == 254 and m.mpls_label(1) == 17 and m.mpls_label(2) is None
    lse = m.mpls_lse(0)
    assert lse is not None and str(lse) == "MPLS Label=16 Exp=5 TTL=254 S=1"
    assert str(ScamperIcmpMplsLabelStackEntry(m, 1)) == "MPLS Label=17 Exp=0 TTL=0 S=0"
    assert h2 is not None and h2.is_icmp_ptb() and h2.icmp_nhmtu == 1400
    assert (h2.icmp_q_ttl, h2.icmp_q_ipl) == (2, 60)
    assert h1.icmp_q_ttl == 1 and h1.icmp_q_ipl == 60  # defaults when not stored
    assert h3 is not None and h3.is_tcp() and h3.tcp_flags == 0x12 and h3.icmp_type is None
    assert t.to_text().splitlines()[3] == " 3  192.0.2.3  1.234 ms [open]"
    assert '"tcp_flags":18' in (t.to_json() or "")
    p = t.pmtud
    assert p is not None and (p.path_mtu, p.if_mtu, p.out_mtu) == (1400, 1500, 1500)
    (note,) = list(p.notes())
    assert note.type_str == "ptb" and note.nhmtu == 1400 and note.hop() is not None
    assert t._d.lastditch[0].probe_ttl == 4 and t._d.dtree is not None
    assert t._d.dtree.lss == "lss" and t.wait_probe == dt.timedelta(milliseconds=50)


def test_ping_tcp_reply_and_timestamps() -> None:
    reply_tcp = params(
        {
            2: u8(0x07),
            3: u8(64),
            4: u16(40),
            6: u32(300),
            7: u16(0),
            8: u16(9),
            9: u16(10),
            10: u8(6),
            11: u8(0x14),
            12: addr_ref(1),
            16: tv(T0, 100),
        }
    )
    ts = u8(2) + u8(2) + u32(1000) + u32(2000) + addr_ref(1) + addr_ref(0)
    reply_ts = params(
        {
            2: u8(0x01),
            3: u8(64),
            4: u16(40),
            5: u8(0) + u8(0),
            6: u32(200),
            7: u16(1),
            10: u8(1),
            12: addr_ref(1),
            14: ts,
        }
    )
    top = params(
        {
            5: tv(T0, 0),
            10: u16(2),
            11: u16(40),
            15: u16(2),
            16: u8(6),
            17: u16(1000),
            18: u16(80),
            20: addr("192.0.2.1"),
            21: addr("192.0.2.2"),
            31: u32(5),
        }
    )
    p = WartsDecoder().decode_record(record(7, top + u16(2) + reply_tcp + reply_ts))
    assert type(p).__name__ == "ScamperPing" and p.is_tcp()
    r0, r1 = p.reply(0), p.reply(1)
    assert r0 is not None and r0.is_tcp() and r0.tcp_flags == 0x14 and r0.is_from_target()
    assert (r0.probe_ipid, r0.reply_ipid) == (10, 9) and r0.icmp_type is None
    assert r0.tx is not None and r0.rx == r0.tx + dt.timedelta(microseconds=300)
    assert "tcp=closed ttl=64 time=0.300 ms" in (p.to_text() or "")
    assert r1 is not None and not r1.is_from_target() and p.nerrs == 1 and p.nreplies == 1
    ipts = r1.ip_ts
    assert ipts is not None and len(ipts) == 2 and ipts.has_addrs()
    assert [str(a) for a in ipts.addrs() or []] == ["192.0.2.2", "192.0.2.1"]
    assert ipts.timestamps() == [dt.timedelta(seconds=1), dt.timedelta(seconds=2)]
    assert '"tsandaddr":[{"ts":1000,"ip":"192.0.2.2"}' in (p.to_json() or "")
    assert p.probe_tcp_seq == 5 and p.probe_tcp_ack == 0 and p.probe_icmp_sum is None


def test_host_unknown_rr_data_is_skipped() -> None:
    rr_opt = params({1: u16(1232), 2: u16(41), 3: string(""), 4: u32(0x8000), 5: u16(6) + b"??"})
    rr_a = params(
        {1: u16(1), 2: u16(1), 3: string("x.example"), 4: u32(60), 5: u16(1) + addr("192.0.2.7")}
    )
    query = params({1: tv(T0, 10), 2: tv(T0, 30), 3: u16(5), 4: u16(1), 6: u16(1), 7: u8(0)})
    top = params(
        {
            4: addr("127.0.0.1"),
            5: addr("127.0.0.1"),
            6: tv(T0, 0),
            8: u16(1500),
            9: u8(1),
            11: u16(1),
            12: u16(1),
            13: string("x.example"),
            14: u8(1),
        }
    )
    h = WartsDecoder().decode_record(record(14, top + query + rr_a + rr_opt))
    assert type(h).__name__ == "ScamperHost"
    assert h.udpsize == 1232 and h.edns_do is True and h.edns_version == 0
    assert h.rtt == dt.timedelta(microseconds=20) and h.rcode == "NoError"
    assert [str(a) for a in h.ans_addrs()] == ["192.0.2.7"]
    opt = h.ar(0)
    assert opt is not None and opt.rtype == 41 and opt.opt is None and opt.udpsize == 1232
    assert h.wait_timeout == dt.timedelta(milliseconds=1500)
