"""My account: change my password (and, after a first password someone else chose, choose my own)."""

from __future__ import annotations

import streamlit as st

from coach.store.auth import MIN_PASSWORD, AuthError, Forbidden
from ui import context
from ui.text import plain, sentence

who = context.principal()
if who is None or who.is_demo:
    st.info("Sign in to manage your account.")
    st.stop()

if who.must_change_password:
    st.title("Choose your own password")
    st.write(
        "Your password was set by someone else. Please choose one only you know: "
        "a few unrelated words make a good password."
    )
else:
    st.title("My account")
    st.write(f"You sign in as **{plain(who.username)}**.")
    if "account_flash" in st.session_state:
        st.success(st.session_state.pop("account_flash"))
    st.subheader("Change my password")

with st.form("change_password", clear_on_submit=True):
    current = st.text_input("Current password", type="password", key="acct_current")
    new = st.text_input(f"New password (at least {MIN_PASSWORD} characters)", type="password", key="acct_new")
    again = st.text_input("The new password again", type="password", key="acct_again")
    if st.form_submit_button("Change my password", type="primary", key="acct_go"):
        if new != again:
            st.error("The two new passwords are not the same.")
        else:
            try:
                st.session_state["who"] = context.accounts().change_password(
                    who, current, new, client=context.client_address()
                )
                st.session_state["account_flash"] = "Your password is changed."
                if who.must_change_password:
                    st.session_state["go_home"] = True  # on to where they were going
                st.rerun()
            except (AuthError, ValueError, Forbidden) as err:
                st.error(sentence(err))
