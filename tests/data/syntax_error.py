import kubricgen as kb
def broken(:
  pass
