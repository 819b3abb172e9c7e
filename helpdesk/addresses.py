"""Clients' network addresses, kept only as keyed hashes (addresses are personal data).

A block by address compares hashes: the address itself is never stored. The hash is keyed with
settings.SECRET_KEY (read at call time), so rotating the key ends every address block early.
"""

import ipaddress

from django.utils.crypto import salted_hmac

_SALT = "helpdesk.addresses.address_hash"
# An IPv6 customer gets a whole /64 from their provider and may pick any address in it at
# will: the /64 is what names them.
_IPV6_PREFIX = 64


def normalize_address(ip: str) -> str:
    """The form of an address that names one client: IPv4 as is (an IPv4-mapped IPv6 address
    included), IPv6 as its /64 network. Something that is not an address is kept as given
    (a proxy misconfiguration must not make every client look alike)."""
    ip = ip.strip()
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, _IPV6_PREFIX), strict=False))
    return str(address)


def address_hash(ip: str) -> str:
    """64 hex characters naming the client's address, or "" for no address."""
    normalized = normalize_address(ip)
    if not normalized:
        return ""
    return salted_hmac(_SALT, normalized, algorithm="sha256").hexdigest()
