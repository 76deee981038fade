"""The checks every screen's test relies on catch what they are for (on pages written here, no stack)."""
from __future__ import annotations

import pytest

from tests.browser.checks import assert_accessible, english_left


def test_english_left_finds_interface_text_but_not_data(contexts) -> None:
    page = contexts()
    page.set_content("""<main><h1>团队</h1><p>Save changes</p><p translate="no">ada@example.com Ada Lovelace</p>
      <input placeholder="Write a message"><button aria-label="关闭">×</button><p hidden>Hidden text</p>
      <p>下载 CSV 文件</p><div id="host"></div></main>""")
    page.evaluate("""() => { const root = document.getElementById("host").attachShadow({mode: "open"});
                              root.innerHTML = "<button>Chat with us</button>"; }""")
    assert english_left(page) == ["Save changes", "Write a message", "Chat with us"]
    assert english_left(page, "#host") == ["Chat with us"]


def test_assert_accessible_fails_on_an_unlabelled_control_and_poor_contrast(contexts) -> None:
    page = contexts()
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><input id="x">'
                     '<p style="color:#aaa;background:#fff">faint</p></main></body></html>')
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    assert "label" in str(failure.value) and "color-contrast" in str(failure.value)
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><label for="x">Name</label>'
                     '<input id="x"><p>clear</p></main></body></html>')
    assert_accessible(page)
