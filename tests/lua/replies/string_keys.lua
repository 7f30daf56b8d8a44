return {'a', name = 'x', score = 7} -- redis-script: allow(string_keys_in_reply)
