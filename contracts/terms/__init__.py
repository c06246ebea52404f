"""Key terms read from a contract's own text (suggestions a person accepts or corrects) and the
contract traps found in its clauses (findings, raised in the risk register)."""
