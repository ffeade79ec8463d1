"""FaceCoach's Streamlit app. The only package that imports streamlit."""
