local text = [==[
never closed ]]
return text
