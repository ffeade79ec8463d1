"""FaceCoach app: guided facial exercises, progress, and the therapist's dashboard.

Run with ``streamlit run ui/app.py``. No camera or set-up is needed: "Try the demo"
opens an example patient's records, and a virtual patient can do the exercises.
The pages a person sees depend on their role; every record they open is checked
again when it is read (``coach.store.access``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st  # noqa: E402
import streamlit.components.v1 as components  # noqa: E402

from ui import context  # noqa: E402
from ui.text import plain  # noqa: E402

ROLE_WORDS = {"patient": "patient", "therapist": "therapist", "admin": "administrator"}


# Every page's address, whoever has it: a reload or a bookmark of one (e.g. /coach) must
# never meet Streamlit's "Page not found". A page's address is its file's name.
ADDRESSES = ("today", "coach", "progress", "measure", "my_data", "therapist", "admin", "account")
SIGN_IN = ("signin", "Sign in", "🔑")
PRACTISE = [
    ("today", "Today", "🏠"),
    ("coach", "Coach", "🎥"),
    ("progress", "My progress", "📈"),
    ("measure", "Measure a video", "📼"),
]
MY_DATA = ("my_data", "My data", "🗂️")
PATIENTS = ("therapist", "Patients", "🩺")
MEASURE = ("measure", "Measure a video", "📼")
ACCOUNTS = ("admin", "Accounts", "🛡️")
MY_ACCOUNT = ("account", "My account", "👤")
NEW_PASSWORD = ("account", "Choose your password", "🔑")


def menu_for(role: str | None, must_change_password: bool = False) -> dict[str, list[tuple[str, str, str]]]:
    """(address, title, icon) of the pages a role sees, by menu section; the first is the role's home.

    Someone whose password was chosen by someone else sees only the page to choose their own.
    """
    if role is None:
        return {"": [SIGN_IN]}
    if must_change_password and role != "demo":
        return {"": [NEW_PASSWORD]}
    if role == "patient":
        return {"Practise": PRACTISE, "Me": [MY_DATA, MY_ACCOUNT]}
    if role == "demo":
        return {"Practise": PRACTISE, "Therapist": [PATIENTS]}
    if role == "therapist":
        return {"Therapist": [PATIENTS, MEASURE], "Me": [MY_ACCOUNT]}
    return {"Administration": [ACCOUNTS], "Me": [MY_ACCOUNT]}


def pages_for(role: str | None, must_change_password: bool = False) -> dict[str, list]:
    """The pages a role sees, plus a hidden page at every other address.

    Signed out, every address shows the sign-in, and after signing in the page asked
    for opens (Streamlit knows a page by its address); signed in, an address the role
    has no page for shows the role's home page.
    """
    menu = menu_for(role, must_change_password)
    home = next(iter(menu.values()))[0]
    pages = {
        section: [st.Page(f"views/{a}.py", title=t, icon=i, url_path=a, default=(a, t, i) == home) for a, t, i in items]
        for section, items in menu.items()
    }
    taken = {a for items in menu.values() for a, _, _ in items}
    hidden = [
        st.Page(f"views/{home[0]}.py", title=home[1], icon=home[2], url_path=a, visibility="hidden")
        for a in ADDRESSES
        if a not in taken
    ]
    return {**pages, "": [*pages.get("", []), *hidden]}


# On a phone the menu covers the page, and Streamlit leaves it open after a page is chosen
# from it (issue 14). This closes it then, on screens narrower than Streamlit's phone
# breakpoint. The listener is made in the page's own realm (it outlives this frame) and
# installed once per page load.
CLOSE_MENU_ON_PHONE_HTML = """<script>
(function () {
  const top = window.parent;
  if (top.facecoachMenuCloser) return;
  top.facecoachMenuCloser = new top.Function(`
    document.addEventListener("click", (event) => {
      if (window.innerWidth >= 768 || !event.target.closest('[data-testid="stSidebarNavLink"]')) return;
      setTimeout(() => {
        const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
        if (close) close.click();
      }, 50);
    }, true);
    return true;
  `)();
})();
</script>"""


def sidebar(who) -> None:
    st.sidebar.caption("FaceCoach supports therapy; it does not diagnose. Its grades are estimates.")
    if who is None:
        return
    if who.is_demo:
        st.sidebar.info("You are trying the demo, with an example patient's made-up records.")
        label = "Leave the demo"
    else:
        st.sidebar.write(f"Signed in as **{plain(who.username)}** ({ROLE_WORDS.get(who.role, who.role)})")
        label = "Sign out"
    if st.sidebar.button(label, key="sign_out"):
        context.sign_out()
        st.rerun()


def main() -> None:
    st.set_page_config(page_title="FaceCoach", page_icon="🙂", layout="wide")
    context.store()
    who = context.principal()
    role = None if who is None else who.role
    pages = pages_for(role, who is not None and who.must_change_password)
    nav = st.navigation(pages)
    if st.session_state.pop("go_home", False):  # e.g. after choosing one's own password
        st.switch_page(next(p for section in pages.values() for p in section if p._default))
    sidebar(who)
    if who is not None:
        components.html(CLOSE_MENU_ON_PHONE_HTML, height=0)
    context.run_page(nav)


main()
