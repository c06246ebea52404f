"""One rule for ids in filters, on every list page and every API list endpoint, for every role:
the choices offered are only what the user may see, and an id of another department's object is
answered exactly like an id that does not exist ("Select a valid choice": 400 on the API, the
error under the field on a page).

Generic: the API's endpoints are read from its router, every filter is inspected, and a filter
naming a model (a department, vendor, subscription, person, budget, contract, owner...) must offer
scoped choices. The pages are listed in test_page_filters.py; a FilterSet that neither an API
endpoint nor a listed page uses fails the test, so a new list cannot be forgotten."""
