return {'name', 'x', 'score', '7'}
