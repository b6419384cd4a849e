UPDATE resources SET data = json(data);
