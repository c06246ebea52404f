"""Read queries shared by pages, reports, exports and the API."""
