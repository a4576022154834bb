print("shufflenet")
