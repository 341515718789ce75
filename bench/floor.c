/*
 * The exec floor: a C program that only prints an answer the size of a
 * credential helper's. What any dynamically linked program costs to start.
 */
#include <stdio.h>

int main(void)
{
	fputs("protocol=https\nhost=example.com\nusername=floor\npassword=floor\n\n", stdout);
	return 0;
}
