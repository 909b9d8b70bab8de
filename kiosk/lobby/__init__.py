"""The lobby tablet (a Streamlit app): scan, birth-date check, today's plan, feedback, take the plan home."""
