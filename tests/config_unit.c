/* Placeholder until the config unit tests land: fails so nothing passes silently. */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "config unit tests not written yet\n");
	return 99;
}
