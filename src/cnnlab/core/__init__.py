"""The ground floor: one Registry class, the errors a user can fix, and file input/output
(atomic writes, free names for new files and folders, the cache folder). Imports nothing
else of cnnlab."""
