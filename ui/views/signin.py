"""Sign in, the very first run (the administrator's account), and the door to the demo."""

from __future__ import annotations

import streamlit as st

from coach.store.auth import AuthError, Forbidden, demo_principal
from ui import context
from ui.text import sentence

st.title("FaceCoach")
st.caption("Gentle, even facial exercises, measured side by side.")
if "signin_flash" in st.session_state:
    st.info(st.session_state.pop("signin_flash"))
acc = context.accounts()

demo = context.demo_enabled()
left, right = st.columns(2, gap="large") if demo else (st.container(), None)
with left:
    if acc.needs_first_admin():
        st.subheader("Welcome! Set up FaceCoach")
        st.write(
            "First, create the administrator's account. The administrator adds the therapists. "
            "You need the setup code that FaceCoach printed where it was started (the server's log), "
            "or run `python -m coach admin setup-code` there for a new one."
        )
        with st.form("first_admin"):
            code = st.text_input("Setup code", key="first_code", placeholder="XXXX-XXXX-XXXX-XXXX")
            name = st.text_input("Administrator's user name", key="first_name")
            pw = st.text_input("Password (at least 10 characters)", type="password", key="first_pw")
            pw2 = st.text_input("The same password again", type="password", key="first_pw2")
            if st.form_submit_button("Create the administrator", type="primary", key="first_go"):
                if pw != pw2:
                    st.error("The two passwords are not the same.")
                else:
                    try:
                        acc.create_first_admin(name, pw, code, client=context.client_address())
                        context.sign_in(acc.login(name, pw, client=context.client_address()))
                        st.rerun()
                    except (ValueError, Forbidden, AuthError) as err:
                        st.error(sentence(err))
    else:
        st.subheader("Sign in")
        with st.form("signin"):
            name = st.text_input("User name", key="signin_name")
            pw = st.text_input("Password", type="password", key="signin_pw")
            if st.form_submit_button("Sign in", type="primary", key="signin_go"):
                try:
                    context.sign_in(acc.login(name, pw, client=context.client_address()))
                    st.rerun()
                except AuthError as err:
                    st.error(f"{err}.")  # our own words: they never quote what was typed
        st.caption("Forgot your password? Your therapist (or, for therapists, the administrator) can set a new one.")
if right is not None:
    with right:
        st.subheader("Just looking?")
        st.write(
            "Try FaceCoach without an account: an example patient's made-up records, "
            "and a virtual patient who does the exercises if you have no camera. Nothing you do there is kept."
        )
        if st.button("Try the demo", key="try_demo"):
            context.sign_in(demo_principal())
            st.rerun()
