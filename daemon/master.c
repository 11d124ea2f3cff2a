/* master: being written */
#include "acconfig.h"
