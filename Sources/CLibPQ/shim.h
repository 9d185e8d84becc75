// libpq's client API, from Debian's libpq-dev (/usr/include/postgresql).
#include <postgresql/libpq-fe.h>
