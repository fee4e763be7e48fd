from __future__ import annotations

import pytest

from exchange.core import ports


def test_an_unwired_port_refuses_instead_of_delivering_unchecked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ports, "_ports", ports._Ports())
    with pytest.raises(ports.NotWired, match="delivery admission"):
        ports.delivery_admission()
    with pytest.raises(ports.NotWired, match="department feeds"):
        ports.department_feeds()
