/*
 * list.h - intrusive doubly linked lists (the kernel's shape): the links
 * live inside the object, so queueing never allocates.
 */
#ifndef GH_CORE_LIST_H
#define GH_CORE_LIST_H

#include <stddef.h>
#include <stdbool.h>

struct list {
	struct list *next, *prev;
};

#define LIST_INIT(l) ((l)->next = (l)->prev = (l))
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static inline bool list_empty(const struct list *l) { return l->next == l; }

static inline void list_add_head(struct list *l, struct list *n)
{
	n->next = l->next;
	n->prev = l;
	l->next->prev = n;
	l->next = n;
}

static inline void list_add_tail(struct list *l, struct list *n)
{
	n->prev = l->prev;
	n->next = l;
	l->prev->next = n;
	l->prev = n;
}

/* Unlinks n and leaves it self-linked, so a second del is harmless. */
static inline void list_del(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

#define list_for_each(pos, head) \
	for (pos = (head)->next; pos != (head); pos = pos->next)

#define list_for_each_safe(pos, tmp, head) \
	for (pos = (head)->next, tmp = pos->next; pos != (head); pos = tmp, tmp = pos->next)

#endif
