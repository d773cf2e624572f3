owner = "acme"
