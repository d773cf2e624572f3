environments = ["staging", "production"]
