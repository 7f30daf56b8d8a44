return "ÿ"
