"""dev.py's steps, one module each: common (paths, say, run), venv (the virtual environment and the
lock files), packages (Debian and npm packages), database (the private cluster or DATABASE_URL's
server), start (`dev.py start`), testing (`dev.py test`).

Standard library only, like dev.py: it runs under the system python3 before .venv exists (a
module may import the venv's packages inside a function that runs only after the re-exec)."""
