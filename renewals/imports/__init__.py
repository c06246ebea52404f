"""CSV/XLSX imports: read a file into a staging table with COPY, check every row in SQL, and
write the checked rows with set-based upserts, all in one transaction.

One code path serves a 10-row file and a 1,000,000-row file; only where it runs differs (a web
request or a django-q2 worker).
"""
