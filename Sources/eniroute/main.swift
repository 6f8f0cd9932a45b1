print("eniroute")
