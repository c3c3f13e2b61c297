"""The local Lambda runtime: each function from its synthesized assets, in its own processes, through
the Lambda Runtime API and AWS's runtime interface client (architecture rule 8)."""
