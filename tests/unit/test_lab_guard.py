"""The lab refuses a network that would capture an address this machine uses outside the lab."""
import ipaddress

import pytest

from fixtures.lab import bringup
from fixtures.lab.image import LabError


def test_network_over_the_package_mirror_is_refused(monkeypatch):
    monkeypatch.setattr(bringup, "_machine_addresses", lambda: {"203.0.113.80", "192.0.2.1"})
    with pytest.raises(LabError, match=r"offlab-wan: 203.0.113.0/24 .* contains 203.0.113.80"):
        bringup._guard("offlab-wan", ipaddress.ip_network("203.0.113.0/24"))
    bringup._guard("offlab-wan", ipaddress.ip_network("198.18.0.0/24"))  # no error
