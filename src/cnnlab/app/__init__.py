"""The web app (`cnnlab serve`): FastAPI server, run folders as JSON, the static page."""
