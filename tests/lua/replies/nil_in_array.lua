return {'a', nil, 'c'} -- redis-script: allow(nil_in_reply_array)
