"""The contract corpus of bench/contract_corpus.py, split by concern."""
