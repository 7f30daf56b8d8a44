return {'a', false, 'c'}
