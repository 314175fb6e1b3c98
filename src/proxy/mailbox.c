/*
 * mailbox.c - see mailbox.h.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "proxy/mailbox.h"

int mailbox_init(struct mailbox *mb, int efd)
{
	memset(mb, 0, sizeof(*mb));
	mb->efd = efd;
	return pthread_mutex_init(&mb->lock, NULL) == 0 ? 0 : -1;
}

void mailbox_free(struct mailbox *mb)
{
	pthread_mutex_destroy(&mb->lock);
}

bool mailbox_post(struct mailbox *mb, struct mb_msg m)
{
	bool was_empty, ok = true;

	pthread_mutex_lock(&mb->lock);
	was_empty = mb->len == 0;
	if (mb->len == MAILBOX_CAP) {
		mb->overflow++;
		ok = false;
	} else {
		mb->ring[(mb->head + mb->len) % MAILBOX_CAP] = m;
		mb->len++;
	}
	pthread_mutex_unlock(&mb->lock);
	if (ok && was_empty) {
		uint64_t one = 1;
		ssize_t r;
		do
			r = write(mb->efd, &one, sizeof(one));
		while (r < 0 && errno == EINTR);
	}
	return ok;
}

uint32_t mailbox_take(struct mailbox *mb, struct mb_msg *out, uint32_t max)
{
	uint64_t v;
	ssize_t r = read(mb->efd, &v, sizeof(v));
	(void)r;
	uint32_t n = 0;
	pthread_mutex_lock(&mb->lock);
	while (n < max && mb->len) {
		out[n++] = mb->ring[mb->head];
		mb->head = (mb->head + 1) % MAILBOX_CAP;
		mb->len--;
	}
	pthread_mutex_unlock(&mb->lock);
	return n;
}
