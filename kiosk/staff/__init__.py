"""The staff app (a Streamlit app served with its sign-in cookie endpoints): pages over the services and one
UI kit."""
