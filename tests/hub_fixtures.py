"""The loopback Hub (tests/hub_server.py) as a fixture: the real huggingface_hub client points at it."""

from __future__ import annotations

import pytest
from hub_server import HubServer

TOKEN = "hf_alice_SECRET_test_token_0123456789"
BOB = "hf_bob_SECRET_test_token_9876543210"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A fresh loopback Hub, and the environment pointing the client at it with an empty cache."""
    server = HubServer(tokens={TOKEN: "alice", BOB: "bob"}, page_size=3).start()  # page_size: tree paging is used
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    yield server
    server.stop()
    assert server.unknown == [], f"the client called endpoints the test server does not implement: {server.unknown}"
