"""Sharing across levels: calls relayed hop by hop (district <-> city <-> province), each hop
signed, audited with the caller's request id and timed X-Road style (four timestamps a hop)."""
